/**
 * Reads the parts of /proc/net/bonding/<bond> that doctor needs: the mode and, per slave,
 * the 802.3ad aggregator id and the partner's system MAC.
 */
export interface BondProcSlave {
  readonly name: string;
  readonly aggregatorId?: string;
  /** Partner system MAC, lower case (from "details partner lacp pdu" or "Partner Mac Address"). */
  readonly partnerMac?: string;
}

export interface BondProc {
  /** Kernel mode name, when the "Bonding Mode:" line was recognised. */
  readonly mode?: string;
  readonly slaves: readonly BondProcSlave[];
}

/** The "Bonding Mode:" texts of drivers/net/bonding/bond_main.c `bond_mode_name`. */
const MODE_TEXTS: ReadonlyArray<readonly [string, string]> = [
  ['round-robin', 'balance-rr'],
  ['active-backup', 'active-backup'],
  ['(xor)', 'balance-xor'],
  ['(broadcast)', 'broadcast'],
  ['802.3ad', '802.3ad'],
  ['adaptive load balancing', 'balance-alb'],
  ['transmit load balancing', 'balance-tlb'],
];

export function parseBondProc(text: string): BondProc {
  let mode: string | undefined;
  const slaves: { name: string; aggregatorId?: string; partnerMac?: string }[] = [];
  let current: (typeof slaves)[number] | undefined;
  let inPartnerPdu = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const [key = '', ...rest] = line.split(':');
    const value = rest.join(':').trim();
    const lower = key.toLowerCase();
    if (lower === 'bonding mode') {
      const text = value.toLowerCase();
      mode = MODE_TEXTS.find(([needle]) => text.includes(needle))?.[1];
    } else if (lower === 'slave interface') {
      current = { name: value };
      slaves.push(current);
      inPartnerPdu = false;
    } else if (current === undefined) {
      // bond-wide lines ("Active Aggregator Info") are not per-slave facts
    } else if (lower === 'aggregator id') {
      current.aggregatorId = value;
    } else if (lower.startsWith('details partner lacp pdu')) {
      inPartnerPdu = true;
    } else if (lower.startsWith('details actor lacp pdu')) {
      inPartnerPdu = false;
    } else if ((inPartnerPdu && lower === 'system mac address') || lower === 'partner mac address') {
      current.partnerMac = value.toLowerCase();
    }
  }
  return mode === undefined ? { slaves } : { mode, slaves };
}
