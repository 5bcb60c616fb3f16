import { describe, expect, it } from 'vitest';
import { parseOsRelease } from './os-facts';
import { parseDockerVersion, parseNvccVersion, parseUcxInfoVersion } from './tool-version-parse';

describe('tool version parsers', () => {
  it('reads ucx_info -v in the current and the older format', () => {
    expect(parseUcxInfoVersion('# Library version: 1.16.0\n# Library path: /usr/lib/libucs.so.0\n# API headers version: 1.16.0\n')).toBe('1.16.0');
    expect(parseUcxInfoVersion('# UCT version=1.9.0 revision 1d0a420\n# configured with: --prefix=/usr\n')).toBe('1.9.0');
    expect(parseUcxInfoVersion('ucx_info: error while loading shared libraries')).toBeNull();
  });

  it('reads docker and podman-docker version lines', () => {
    expect(parseDockerVersion('Docker version 24.0.7, build afdd53b\n')).toBe('24.0.7');
    expect(parseDockerVersion('podman version 4.3.1')).toBe('4.3.1');
    expect(parseDockerVersion('command not found')).toBeNull();
  });

  it('reads the nvcc release and build version', () => {
    const text = 'nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2024 NVIDIA Corporation\nCuda compilation tools, release 12.4, V12.4.131\nBuild cuda_12.4.r12.4/compiler.34097967_0\n';
    expect(parseNvccVersion(text)).toEqual({ release: '12.4', version: '12.4.131' });
    expect(parseNvccVersion('Cuda compilation tools, release 11.8')).toEqual({ release: '11.8', version: '11.8' });
    expect(parseNvccVersion('')).toBeNull();
  });

  it('reads /etc/os-release with quotes, escapes and comments', () => {
    const text = '# comment\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME=Ubuntu\nVERSION_ID=\'22.04\'\nWEIRD="say \\"hi\\""\nnot a line\n';
    expect(parseOsRelease(text)).toEqual({ PRETTY_NAME: 'Ubuntu 22.04.4 LTS', NAME: 'Ubuntu', VERSION_ID: '22.04', WEIRD: 'say "hi"' });
  });
});
