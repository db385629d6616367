/** Builds /proc/net/bonding/<bond> text as a 6.x kernel prints it, for 802.3ad tests. */
export interface ProcSlave {
  name: string;
  aggregator: number;
  partner: string;
}

export function lacpProc(slaves: ProcSlave[]): string {
  const head = [
    'Ethernet Channel Bonding Driver: v6.1.0',
    '',
    'Bonding Mode: IEEE 802.3ad Dynamic link aggregation',
    'Transmit Hash Policy: layer2 (0)',
    'MII Status: up',
    'MII Polling Interval (ms): 100',
    '',
    '802.3ad info',
    'LACP active: on',
    'LACP rate: slow',
    'System MAC address: 02:00:00:00:00:aa',
    'Active Aggregator Info:',
    '\tAggregator ID: 1',
    '\tNumber of ports: 1',
    `\tPartner Mac Address: ${slaves[0]?.partner ?? '00:00:00:00:00:00'}`,
    '',
  ];
  const body = slaves.flatMap((s) => [
    `Slave Interface: ${s.name}`,
    'MII Status: up',
    'Speed: 1000 Mbps',
    `Aggregator ID: ${s.aggregator}`,
    'details actor lacp pdu:',
    '    system priority: 65535',
    '    system mac address: 02:00:00:00:00:aa',
    '    port key: 9',
    'details partner lacp pdu:',
    '    system priority: 32768',
    `    system mac address: ${s.partner}`,
    '    oper key: 1',
    '',
  ]);
  return [...head, ...body].join('\n');
}
