import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'host',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          // Namespace tests are heavy; two cores here.
          maxWorkers: 2,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // A real Xen host under QEMU (TCG: everything is 10-50x slower): one VM at a time,
          // after the host tests, so it has both cores.
          name: 'xen',
          include: ['test/kernel/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 300_000,
          hookTimeout: 400_000,
        },
      },
    ],
  },
});
