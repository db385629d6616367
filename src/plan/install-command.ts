/** The argv of install's and uninstall's steps: make directories, copy, edit, write, link, move, remove. */
import type { Argv } from './command.ts';

export const command = {
  mkdir: (dir: string): Argv => ['mkdir', '-p', dir],
  install: (src: string, dst: string, mode: string): Argv => ['install', '-m', mode, src, dst],
  /** Rewrites line 1 of `dst` in place with the sed expression (install-script.ts); keeps its mode. */
  edit: (expression: string, dst: string): Argv => ['sed', '-i', expression, dst],
  /** Writes `content` to `dst` with `mode`; the content travels as an argument, never as shell text. */
  write: (content: string, dst: string, mode = '0644'): Argv => [
    'sh',
    '-c',
    `printf "%s" "$1" >"$2" && chmod ${mode} "$2"`,
    'sh',
    content,
    dst,
  ],
  systemctl: (...args: string[]): Argv => ['systemctl', ...args],
  link: (target: string, dst: string): Argv => ['ln', '-sf', target, dst],
  move: (src: string, dst: string): Argv => ['mv', '-f', src, dst],
  remove: (path: string): Argv => ['rm', '-f', path],
  rmdir: (dir: string): Argv => ['rmdir', dir],
};
