/**
 * Both sides against Debian's real xenstore clients (package xenstore-utils): the stand-in proves it
 * speaks the protocol real clients speak, and our client proves it interoperates with what they write.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startXenstored, type XenstoredHandle } from '../../src/lab/xenstored.ts';
import type { XenplanError } from '../../src/model/error.ts';
import { openXenstore } from '../../src/xen/xenstore.ts';

const TOOLS = ['xenstore-read', 'xenstore-write', 'xenstore-ls', 'xenstore-rm', 'xenstore-exists'];
const missingTools = TOOLS.filter(
  (tool) =>
    !(process.env.PATH ?? '').split(':').some((dir) => dir !== '' && fs.existsSync(path.join(dir, tool))),
);
const haveTools = missingTools.length === 0;
const SKIP_REASON = `skipped: ${missingTools.join(', ')} not on PATH (apt-get install xenstore-utils)`;

if (!haveTools) {
  if (process.env.CI) {
    describe('xenstore-utils', () => {
      it('is installed (required in CI)', () => {
        throw new Error(`${missingTools.join(', ')} not on PATH: CI must install xenstore-utils`);
      });
    });
  } else {
    console.warn(`test/integration/xenstore.test.ts ${SKIP_REASON}`);
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(socketPath: string, command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { ...process.env, XENSTORED_PATH: socketPath }, timeout: 10_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xpt-xs-int-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveTools)(
  `real xenstore clients against the stand-in${haveTools ? '' : ` (${SKIP_REASON})`}`,
  () => {
    let server: XenstoredHandle;
    let socketPath: string;
    let counter = 0;
    beforeEach(async () => {
      counter++;
      socketPath = path.join(dir, `xenstored-${counter}.sock`);
      server = await startXenstored(socketPath);
    });
    afterEach(async () => {
      await server.close();
    });

    it('xenstore-write with several pairs, read back by our client', async () => {
      const written = await run(socketPath, 'xenstore-write', [
        '/local/domain/0/backend/vif/5/0/bridge',
        'xenbr0',
        'backend/vif/5/0/mac',
        '00:16:3e:01:02:03',
        '/local/domain/0/backend/vif/5/0/script',
        '/etc/xen/scripts/vif-bridge bridge=xenbr1',
      ]);
      expect(written).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(server.requestCounts()).toEqual({ 6: 1, 11: 3, 7: 1 });
      const client = await openXenstore({ XENSTORED_PATH: socketPath });
      expect(
        await client.readMany([
          'backend/vif/5/0/bridge',
          '/local/domain/0/backend/vif/5/0/mac',
          'backend/vif/5/0/script',
          'backend/vif/5/0/mtu',
        ]),
      ).toEqual(['xenbr0', '00:16:3e:01:02:03', '/etc/xen/scripts/vif-bridge bridge=xenbr1', undefined]);
      await client.close();
    });

    it('our writeMany, read back by xenstore-read', async () => {
      const client = await openXenstore({ XENSTORED_PATH: socketPath });
      await client.writeMany([
        { path: 'backend/vif/9/1/hotplug-status', value: 'connected' },
        { path: '/local/domain/0/backend/vif/9/1/hotplug-error', value: 'bridge xenbr9 does not exist' },
      ]);
      await client.close();
      const read = await run(socketPath, 'xenstore-read', [
        '/local/domain/0/backend/vif/9/1/hotplug-status',
        'backend/vif/9/1/hotplug-error',
      ]);
      expect(read).toEqual({ code: 0, stdout: 'connected\nbridge xenbr9 does not exist\n', stderr: '' });
      const missing = await run(socketPath, 'xenstore-read', ['/local/domain/0/backend/vif/9/1/nope']);
      expect(missing).toEqual({
        code: 1,
        stdout: '',
        stderr: "xenstore-read: couldn't read path /local/domain/0/backend/vif/9/1/nope\n",
      });
    });

    it('xenstore-ls lists a tree written by our client', async () => {
      const client = await openXenstore({ XENSTORED_PATH: socketPath });
      await client.writeMany([
        { path: '/local/domain/3/device/vif/0/backend', value: '/local/domain/0/backend/vif/3/0' },
        { path: '/local/domain/3/device/vif/0/mac', value: '00:16:3e:00:00:03' },
        { path: '/local/domain/3/name', value: 'guest3' },
      ]);
      await client.close();
      const listed = await run(socketPath, 'xenstore-ls', ['/local/domain/3']);
      expect(listed).toEqual({
        code: 0,
        stdout: [
          'device = ""',
          ' vif = ""',
          '  0 = ""',
          '   backend = "/local/domain/0/backend/vif/3/0"',
          '   mac = "00:16:3e:00:00:03"',
          'name = "guest3"',
          '',
        ].join('\n'),
        stderr: '',
      });
      const full = await run(socketPath, 'xenstore-ls', ['-f', '/local/domain/3/device']);
      expect(full.stdout).toBe(
        [
          '/local/domain/3/device/vif = ""',
          '/local/domain/3/device/vif/0 = ""',
          '/local/domain/3/device/vif/0/backend = "/local/domain/0/backend/vif/3/0"',
          '/local/domain/3/device/vif/0/mac = "00:16:3e:00:00:03"',
          '',
        ].join('\n'),
      );
    });

    it('xenstore-rm and xenstore-exists behave', async () => {
      const client = await openXenstore({ XENSTORED_PATH: socketPath });
      await client.writeMany([
        { path: '/vm/a/b', value: '1' },
        { path: '/vm/c', value: '2' },
      ]);
      expect((await run(socketPath, 'xenstore-exists', ['/vm/a/b'])).code).toBe(0);
      expect((await run(socketPath, 'xenstore-exists', ['/vm/zz'])).code).toBe(1);
      expect(await run(socketPath, 'xenstore-rm', ['/vm/a'])).toEqual({ code: 0, stdout: '', stderr: '' });
      expect((await run(socketPath, 'xenstore-exists', ['/vm/a/b'])).code).toBe(1);
      expect((await run(socketPath, 'xenstore-exists', ['/vm/a'])).code).toBe(1);
      // Removing what is already gone succeeds while its parent exists, as with xenstored.
      expect((await run(socketPath, 'xenstore-rm', ['/vm/a'])).code).toBe(0);
      const orphan = await run(socketPath, 'xenstore-rm', ['/no/such']);
      expect(orphan).toEqual({
        code: 1,
        stdout: '',
        stderr: 'xenstore-rm: could not remove path /no/such\n',
      });
      expect(await client.directory('/vm')).toEqual(['c']);
      await client.close();
    });

    it('50 concurrent clients each writing 2 keys in a transaction all succeed', async () => {
      const clients = await Promise.all(
        Array.from({ length: 50 }, () => openXenstore({ XENSTORED_PATH: socketPath })),
      );
      await Promise.all(
        clients.map((client, i) =>
          client.writeMany([
            { path: `/local/domain/0/backend/vif/${i}/0/hotplug-status`, value: 'connected' },
            { path: `backend/vif/${i}/0/vifname`, value: `vif${i}.0` },
          ]),
        ),
      );
      await Promise.all(clients.map((client) => client.close()));
      const tree = server.tree();
      const keys = Object.keys(tree).filter((key) => /\/(hotplug-status|vifname)$/.test(key));
      expect(keys).toHaveLength(100);
      for (let i = 0; i < 50; i++) {
        expect(tree[`/local/domain/0/backend/vif/${i}/0/hotplug-status`]).toBe('connected');
        expect(tree[`/local/domain/0/backend/vif/${i}/0/vifname`]).toBe(`vif${i}.0`);
      }
      // And the real client sees them too.
      const read = await run(socketPath, 'xenstore-read', ['backend/vif/49/0/vifname']);
      expect(read.stdout).toBe('vif49.0\n');
    });
  },
);

describe('no xenstore at all', () => {
  it('names the socket and /dev/xen/xenbus with their errno', async () => {
    expect(fs.existsSync('/dev/xen/xenbus')).toBe(false); // test hosts are not Xen hosts
    const socketPath = path.join(dir, 'no-such.sock');
    const error = await openXenstore({ XENSTORED_PATH: socketPath }).catch((e: unknown) => e);
    expect((error as XenplanError).kind).toBe('xenstore');
    expect((error as XenplanError).message).toBe(
      `cannot reach xenstore: ${socketPath}: ENOENT; /dev/xen/xenbus: ENOENT`,
    );
  });
});

describe('the stand-in as its own process (runXenstoredMain)', () => {
  let bundle: string;
  beforeAll(async () => {
    bundle = path.join(dir, 'xenstored-main.mjs');
    const entry = path.resolve(import.meta.dirname, '../../src/lab/xenstored.ts');
    await build({
      stdin: {
        contents: [
          `import { runXenstoredMain } from ${JSON.stringify(entry)};`,
          'runXenstoredMain(process.argv.slice(2)).then(',
          '  () => process.exit(0),',
          '  (e) => { process.stderr.write(e.kind + ": " + e.message + "\\n"); process.exit(2); },',
          ');',
        ].join('\n'),
        resolveDir: path.dirname(entry),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
  });

  it('prints ready, serves the seed, and removes its socket on SIGTERM', async () => {
    const socketPath = path.join(dir, 'main.sock');
    const seed = path.join(dir, 'seed.json');
    fs.writeFileSync(seed, JSON.stringify({ 'backend/vif/2/0/bridge': 'xenbr2', '/vm/uuid': 'abc' }));
    const child = spawn(process.execPath, [bundle, '--socket', socketPath, '--seed', seed], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`xenstored exited with ${code} before ready`)));
    });
    expect(stdout).toBe('ready\n');
    const client = await openXenstore({ XENSTORED_PATH: socketPath });
    expect(await client.readMany(['/local/domain/0/backend/vif/2/0/bridge', '/vm/uuid'])).toEqual([
      'xenbr2',
      'abc',
    ]);
    await client.close();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(socketPath)).toBe(false);
  });

  it('refuses a seed value that is not a string, and a missing --socket', async () => {
    const seed = path.join(dir, 'bad-seed.json');
    fs.writeFileSync(seed, JSON.stringify({ '/a': 1 }));
    const runMain = (args: string[]) =>
      new Promise<Run>((resolve) => {
        execFile(process.execPath, [bundle, ...args], { timeout: 10_000 }, (error, stdout, stderr) =>
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
        );
      });
    expect(await runMain(['--socket', path.join(dir, 'bad.sock'), '--seed', seed])).toEqual({
      code: 2,
      stdout: '',
      stderr: `config: xenstored seed ${seed}: value of /a is 1, expected a string\n`,
    });
    expect(await runMain(['--seed', seed])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'usage: xenstored: --socket PATH is required\n',
    });
  });
});
