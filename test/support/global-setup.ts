import { execFileSync } from 'node:child_process';

/** Builds the bundle once, so integration tests run the real single file as Xen would. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
