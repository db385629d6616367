/** POSIX sh quoting for the scripts the VM runs: every value becomes one literal word. */
export function quoteShell(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `export NAME='value'` lines; names must be shell identifiers. */
export function exportLines(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new Error(`env name ${JSON.stringify(name)} is not a shell identifier`);
      return `export ${name}=${quoteShell(value)}\n`;
    })
    .join('');
}

/** How every busybox initramfs here starts: the applets as commands, proc, sysfs, devtmpfs. */
export const BUSYBOX_INIT_PRELUDE = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
`;
