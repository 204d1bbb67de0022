/** The install script builds against the running node's own headers (<prefix>/include/node), falling back to /usr. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { chooseNodedir } from '../../scripts/install-native.mjs';

const headersAt = (...prefixes: string[]) => (p: string) => prefixes.some((x) => p === `${x}/include/node/node_api.h`);

describe('scripts/install-native.mjs', () => {
  it('prefers the running node prefix (official tarball, nvm), then /usr, then GROUNDLAB_NODEDIR overrides both', () => {
    const nvm = '/home/u/.nvm/versions/node/v20.20.2';
    expect(chooseNodedir({ execPath: `${nvm}/bin/node`, env: {}, exists: headersAt(nvm, '/usr') })).toEqual({ dir: nvm, source: `the running node (${nvm}/bin/node)` });
    expect(chooseNodedir({ execPath: `${nvm}/bin/node`, env: {}, exists: headersAt('/usr') }).dir).toBe('/usr');
    expect(chooseNodedir({ execPath: `${nvm}/bin/node`, env: {}, exists: headersAt() }).dir).toBe(null);
    expect(chooseNodedir({ execPath: '/usr/bin/node', env: { GROUNDLAB_NODEDIR: '/opt/n' }, exists: headersAt('/opt/n', '/usr') }).dir).toBe('/opt/n');
    expect(chooseNodedir({ env: { GROUNDLAB_NODEDIR: '/nowhere' }, exists: headersAt('/usr') }).error).toMatch(/GROUNDLAB_NODEDIR=\/nowhere has no include\/node\/node_api.h/);
  });

  it('is the package install script and is shipped in the tarball', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.scripts.install).toBe('node scripts/install-native.mjs');
    expect(pkg.files).toContain('scripts/install-native.mjs');
    expect(pkg.scripts['test:pack']).toBe('bash scripts/pack-test.sh');
  });
});
