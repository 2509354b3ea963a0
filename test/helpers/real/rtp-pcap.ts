// A pcap file of G.711 μ-law RTP packets for sipp's `play_pcap_audio` (sipp replays the UDP
// payloads at the capture's packet times to the answered media address): lets a test choose the
// packet time (ptime) a SIP caller sends, e.g. 30 ms as many trunks do.
import { writeFileSync } from 'node:fs';
import { ulawEncode } from '../../../src/media/g711.js';

/** Writes `pcm` (8 kHz) as RTP/PCMU packets of `ptimeMs` each into a pcap file (Ethernet, IPv4, UDP). */
export function writeRtpPcap(path: string, pcm: Int16Array, ptimeMs: number): void {
  const spp = (8000 * ptimeMs) / 1000;
  const packets: Buffer[] = [];
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  packets.push(global);
  const ssrc = 0x5eed1234;
  for (let i = 0, seq = 0; i + spp <= pcm.length; i += spp, seq++) {
    const payload = Buffer.alloc(spp);
    ulawEncode(pcm.subarray(i, i + spp), payload);
    const rtp = Buffer.alloc(12);
    rtp[0] = 0x80;
    rtp[1] = 0; // PT 0 = PCMU
    rtp.writeUInt16BE(seq & 0xffff, 2);
    rtp.writeUInt32BE(i, 4);
    rtp.writeUInt32BE(ssrc, 8);
    const udpLen = 8 + rtp.length + payload.length;
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(40000, 0);
    udp.writeUInt16BE(40002, 2);
    udp.writeUInt16BE(udpLen, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udpLen, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += ip.readUInt16BE(k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ip, udp, rtp, payload]);
    const rec = Buffer.alloc(16);
    const tUs = seq * ptimeMs * 1000;
    rec.writeUInt32LE(Math.floor(tUs / 1e6), 0);
    rec.writeUInt32LE(tUs % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    packets.push(rec, frame);
  }
  writeFileSync(path, Buffer.concat(packets));
}
