import type { HostInfo, PythonEnv, ToolVersion } from '../../../common/host';

/** The Python packages the serving and benchmarking stack depends on, in the order shown. */
export const KEY_PACKAGES = ['vllm', 'nixl', 'torch', 'genai-perf', 'aiperf'] as const;

const norm = (name: string): string => name.toLowerCase().replace(/_/g, '-');

/** A package version from an interpreter's record, tolerant of '-' vs '_' spelling; null if missing. */
export function packageVersion(env: PythonEnv, name: string): string | null {
  for (const [k, v] of Object.entries(env.packages)) if (norm(k) === norm(name)) return v;
  return null;
}

function Version({ value, testId }: { value: string | null; testId: string }) {
  return value ? (
    <span className="mono" data-testid={testId}>
      {value}
    </span>
  ) : (
    <span className="missing" data-testid={testId} data-missing="true">
      not installed
    </span>
  );
}

function toolRow(label: string, id: string, tool: ToolVersion | { found: boolean; version: string | null; detail?: string }) {
  return (
    <tr key={id} data-testid={`tool-${id}`} data-found={tool.found}>
      <th>{label}</th>
      <td>
        {tool.found ? <span className="mono">{tool.version ?? 'found (version unknown)'}</span> : <span className="missing">not found</span>}
        {tool.detail ? <span className="muted small"> {tool.detail}</span> : null}
      </td>
    </tr>
  );
}

export function SoftwareVersions({ info }: { info: HostInfo }) {
  const cuda = { found: info.cudaVersion !== null, version: info.cudaVersion };
  const driver = { found: info.driverVersion !== null, version: info.driverVersion };
  const extras = Array.from(
    new Set(info.pythons.flatMap((p) => Object.keys(p.packages).map(norm)).filter((k) => !(KEY_PACKAGES as readonly string[]).includes(k))),
  ).sort();
  return (
    <div className="software">
      <table className="table table-kv" data-testid="tool-versions">
        <tbody>
          {toolRow('NVIDIA driver', 'driver', driver)}
          {toolRow('CUDA', 'cuda', cuda)}
          {toolRow('nvidia-smi', 'nvidia-smi', info.nvidiaSmi)}
          {toolRow('nvcc', 'nvcc', info.nvcc)}
          {toolRow('UCX', 'ucx', info.ucx)}
          {toolRow('Docker', 'docker', info.docker)}
        </tbody>
      </table>
      <h3 className="subhead">Python environments</h3>
      {info.pythons.length === 0 ? (
        <p className="muted" data-testid="python-none">
          No Python interpreter found on the PATH. Install Python 3.10 or newer with vLLM to run real engines here; the simulated engine needs none.
        </p>
      ) : (
        <table className="table" data-testid="python-envs">
          <thead>
            <tr>
              <th>Interpreter</th>
              <th>Python</th>
              {KEY_PACKAGES.map((p) => (
                <th key={p}>{p}</th>
              ))}
              {extras.map((p) => (
                <th key={p}>{p}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {info.pythons.map((env, i) => (
              <tr key={env.path} data-testid={`python-env-${i}`}>
                <td className="mono path" title={env.path}>
                  {env.path}
                </td>
                <td className="mono">{env.version}</td>
                {[...KEY_PACKAGES, ...extras].map((p) => (
                  <td key={p}>
                    <Version value={packageVersion(env, p)} testId={`python-env-${i}-${p}`} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
