import { describe, expect, it } from 'vitest';
import { validateAddHost } from './add-host-form';

const fields = { name: 'gpu1', target: 'ubuntu@10.0.0.5:2222', identityFile: '', jump: '' };

describe('add-host form validation', () => {
  it('builds ssh params from USER@HOST[:PORT], identity file and jump host', () => {
    expect(validateAddHost({ ...fields, identityFile: ' ~/.ssh/id_ed25519 ', jump: 'me@bastion' }, [])).toEqual({
      params: {
        kind: 'ssh',
        name: 'gpu1',
        target: { user: 'ubuntu', host: '10.0.0.5', port: 2222 },
        identityFile: '~/.ssh/id_ed25519',
        jump: { user: 'me', host: 'bastion' },
      },
    });
  });

  it('says what to write for each bad field', () => {
    const r = validateAddHost({ name: 'bad name', target: 'ubuntu@host:99999', identityFile: '', jump: 'a@b@c' }, []);
    expect(r).toHaveProperty('errors');
    if ('errors' in r) {
      expect(r.errors.name).toMatch(/letters, digits/);
      expect(r.errors.target).toMatch(/USER@HOST:PORT/);
      expect(r.errors.jump).toMatch(/Leave it empty/);
    }
  });

  it('asks for the required fields and refuses a name already taken', () => {
    const empty = validateAddHost({ name: '', target: '', identityFile: '', jump: '' }, []);
    expect('errors' in empty && empty.errors.name && empty.errors.target).toBeTruthy();
    const taken = validateAddHost(fields, ['gpu1']);
    expect('errors' in taken && taken.errors.name).toMatch(/already exists/);
  });
});
