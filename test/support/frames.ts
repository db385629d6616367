import type { Netns } from './netns.ts';

/**
 * Hand-made Ethernet frames for antispoofing tests: what a hostile guest would send (a
 * gratuitous ARP for the gateway's address, a router advertisement, a DHCP request from
 * 0.0.0.0). Sent from inside a namespace through an AF_PACKET socket by python3 (the
 * standard library has it; Node has no raw sockets).
 */

type Bytes = number[];

const mac = (text: string): Bytes => text.split(':').map((b) => Number.parseInt(b, 16));
const ip4 = (text: string): Bytes => text.split('.').map(Number);
const u16 = (n: number): Bytes => [(n >> 8) & 0xff, n & 0xff];

function ip6(text: string): Bytes {
  const [head = '', tail] = text.split('::');
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => Number.parseInt(w, 16)));
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const all = [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap(u16);
}

function checksum(bytes: Bytes): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function ether(dst: string, src: string, type: number, payload: Bytes): Bytes {
  return [...mac(dst), ...mac(src), ...u16(type), ...payload];
}

/** An ARP reply broadcast (gratuitous): "senderIp is at senderMac". */
export function gratuitousArp(src: string, senderIp: string): Bytes {
  const body = [...u16(1), ...u16(0x0800), 6, 4, ...u16(2), ...mac(src), ...ip4(senderIp)];
  return ether('ff:ff:ff:ff:ff:ff', src, 0x0806, [...body, ...mac('ff:ff:ff:ff:ff:ff'), ...ip4(senderIp)]);
}

/** A UDP datagram in IPv4 (UDP checksum 0: none, as IPv4 allows). */
export function udp4(
  src: string,
  dst: string,
  from: [string, number],
  to: [string, number],
  data: Bytes = [0x78, 0x70],
): Bytes {
  const udp = [...u16(from[1]), ...u16(to[1]), ...u16(8 + data.length), 0, 0, ...data];
  const head = [
    0x45,
    0,
    ...u16(20 + udp.length),
    0,
    0,
    0x40,
    0,
    64,
    17,
    0,
    0,
    ...ip4(from[0]),
    ...ip4(to[0]),
  ];
  const sum = checksum(head);
  head[10] = sum >> 8;
  head[11] = sum & 0xff;
  return ether(dst, src, 0x0800, [...head, ...udp]);
}

/** A DHCP discover as a client sends it: 0.0.0.0:68 to 255.255.255.255:67. */
export function dhcpDiscover(src: string): Bytes {
  const bootp = [
    1,
    1,
    6,
    0,
    0x12,
    0x34,
    0x56,
    0x78,
    ...Array(20).fill(0),
    ...mac(src),
    ...Array(202).fill(0),
  ];
  const options = [0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255];
  return udp4(src, 'ff:ff:ff:ff:ff:ff', ['0.0.0.0', 68], ['255.255.255.255', 67], [...bootp, ...options]);
}

/** A router advertisement to all nodes (ff02::1) from a link-local address. */
export function routerAdvert(src: string, from: string): Bytes {
  const icmp = [134, 0, 0, 0, 64, 0, ...u16(1800), 0, 0, 0, 0, 0, 0, 0, 0];
  const to = 'ff02::1';
  const pseudo = [...ip6(from), ...ip6(to), 0, 0, ...u16(icmp.length), 0, 0, 0, 58];
  const sum = checksum([...pseudo, ...icmp]);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  const head = [0x60, 0, 0, 0, ...u16(icmp.length), 58, 255, ...ip6(from), ...ip6(to)];
  return ether('33:33:00:00:00:01', src, 0x86dd, [...head, ...icmp]);
}

const SEND = [
  'import socket, sys',
  's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
  's.bind((sys.argv[1], 0))',
  's.send(bytes.fromhex(sys.argv[2]))',
].join('; ');

/** Sends one frame out of `dev` in `ns`. */
export function sendFrame(ns: Netns, dev: string, frame: Bytes): void {
  const hex = frame.map((b) => b.toString(16).padStart(2, '0')).join('');
  const run = ns.exec(['python3', '-c', SEND, dev, hex]);
  if (run.status !== 0) throw new Error(`sending a frame from ${dev} failed: ${run.stderr}`);
}
