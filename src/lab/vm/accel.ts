/**
 * KVM or TCG. Xen needs hardware virtualisation from KVM (VMX or SVM): a /dev/kvm without it
 * (kvm_pvm, as on these machines) boots plain Linux but Xen panics on dom0's first SYSCALL.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Accel } from './qemu.ts';

export function chooseAccel(): Accel {
  if (!existsSync('/dev/kvm')) return { kind: 'tcg', why: 'no /dev/kvm: software emulation (TCG)' };
  if (existsSync('/sys/module/kvm_pvm'))
    return { kind: 'tcg', why: '/dev/kvm is kvm_pvm, which cannot run Xen: software emulation (TCG)' };
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // unreadable: assume nothing
  }
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo))
    return { kind: 'tcg', why: 'the CPU shows no vmx/svm: software emulation (TCG)' };
  return { kind: 'kvm', why: 'KVM with hardware virtualisation' };
}
