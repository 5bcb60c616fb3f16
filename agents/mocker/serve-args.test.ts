import { describe, expect, it } from 'vitest';
import { parseServeArgs } from './serve-args';

describe('vllm serve command line', () => {
  it('reads the positional model, --flag value and --flag=value forms', () => {
    const p = parseServeArgs(['meta-llama/Llama-3.1-8B-Instruct', '--port', '8100', '--tensor-parallel-size=2', '--enforce-eager', '--served-model-name', 'llama']);
    expect(p.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(p.values.get('--port')).toBe(8100);
    expect(p.values.get('--tensor-parallel-size')).toBe(2);
    expect(p.values.get('--enforce-eager')).toBe(true);
    expect(p.values.get('--served-model-name')).toBe('llama');
    expect(p.errors).toEqual([]);
  });

  it('merges --kv-transfer-config JSON with dotted sub-keys and list appends', () => {
    const p = parseServeArgs(['m', '--kv-transfer-config', '{"kv_connector":"NixlConnector"}', '--kv-transfer-config.kv_role', 'kv_producer', '--kv-transfer-config.kv_connector_extra_config.backends+', 'UCX', '--kv-transfer-config.kv_connector_extra_config.kv_lease_duration', '5']);
    expect(p.values.get('--kv-transfer-config')).toEqual({ kv_connector: 'NixlConnector', kv_role: 'kv_producer', kv_connector_extra_config: { backends: ['UCX'], kv_lease_duration: 5 } });
  });

  it('tolerates unknown flags, with their values, as warnings', () => {
    const p = parseServeArgs(['m', '--swap-space', '4', '--disable-custom-all-reduce', '--port', '1']);
    expect(p.warnings.join('\n')).toMatch(/--swap-space 4/);
    expect(p.warnings.join('\n')).toMatch(/--disable-custom-all-reduce/);
    expect(p.values.get('--port')).toBe(1);
  });

  it('reports bad values and bad JSON as errors', () => {
    expect(parseServeArgs(['m', '--port', 'abc']).errors[0]).toMatch(/--port must be a number/);
    expect(parseServeArgs(['m', '--kv-transfer-config', '[1]']).errors[0]).toMatch(/JSON object/);
    expect(parseServeArgs(['m', '--block-size']).errors[0]).toMatch(/needs a value/);
  });

  it('understands --no-X booleans and a leading "vllm serve"', () => {
    const p = parseServeArgs(['vllm', 'serve', 'm', '--no-enable-prefix-caching']);
    expect(p.model).toBe('m');
    expect(p.values.get('--enable-prefix-caching')).toBe(false);
  });
});
