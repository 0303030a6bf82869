// Mutated SIP for the edge tests (issue 17): well-formed base requests and a
// seeded mutator that flips header bytes, folds lines, duplicates and drops
// headers, and writes absurd Content-Lengths. Deterministic for a seed, so a
// failure can be replayed with the same seed.

// xorshift32: small, seedable, good enough to pick mutations.
export function rng(seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
  return { next, int: (n) => next() % n, pick: (a) => a[next() % a.length] };
}

const SDP = 'v=0\r\no=m 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
  + 'm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n';

// Base requests. The INVITEs go to a number with no route (404 at once), so
// the mutants that still parse do not pile up as calls waiting for an ACK.
export function baseMessages(port, transport = 'UDP') {
  const via = (b) => `Via: SIP/2.0/${transport} 127.0.0.1:9;rport;branch=z9hG4bK-${b}`;
  const common = (m, b) => [via(b), 'Max-Forwards: 70', `To: <sip:9999@127.0.0.1:${port}>`,
    `From: "Mut" <sip:mut@127.0.0.1>;tag=t${b}`, `Call-ID: mut-${b}@127.0.0.1`, `CSeq: 1 ${m}`,
    'Contact: <sip:mut@127.0.0.1:9>'];
  const msg = (first, m, b, extra = [], body = '') => [first, ...common(m, b), ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
  return [
    (b) => msg(`INVITE sip:9999@127.0.0.1:${port} SIP/2.0`, 'INVITE', b, ['Content-Type: application/sdp'], SDP),
    (b) => msg(`REGISTER sip:127.0.0.1:${port} SIP/2.0`, 'REGISTER', b, ['Expires: 60',
      'Authorization: Digest username="ned", realm="switchboard", nonce="abc", uri="sip:127.0.0.1", response="0123456789abcdef0123456789abcdef"']),
    (b) => msg(`OPTIONS sip:127.0.0.1:${port} SIP/2.0`, 'OPTIONS', b, ['Accept: application/sdp']),
    (b) => msg(`BYE sip:9999@127.0.0.1:${port} SIP/2.0`, 'BYE', b),
    (b) => msg(`FOO+\`bar sip:9999@127.0.0.1:${port} SIP/2.0`, 'FOO+`bar', b),
  ];
}

const BIG_LENGTHS = ['2147483648', '4294967295', '4294967296', '99999999999999999999', '-1',
  '0x10', '65536', '1999999', ' 12 34', ''];

// One mutant of `text` (a latin1 string). Several mutations may stack.
export function mutate(r, text) {
  let s = text;
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const head = s.indexOf('\r\n\r\n') > 0 ? s.indexOf('\r\n\r\n') : s.length;
    switch (r.int(9)) {
      case 0: { // flip bytes in the headers
        const b = Buffer.from(s, 'latin1');
        for (let k = 0; k < 1 + r.int(4); k++) b[r.int(Math.max(1, head))] ^= 1 << r.int(8);
        s = b.toString('latin1');
        break;
      }
      case 1: // absurd Content-Length
        s = s.replace(/Content-Length: [^\r]*/, `Content-Length: ${r.pick(BIG_LENGTHS)}`);
        break;
      case 2: { // fold a header line (RFC 3261 LWS), sometimes badly
        const at = s.indexOf('\r\n', r.int(Math.max(1, head)));
        if (at > 0) s = s.slice(0, at) + r.pick(['\r\n ', '\r\n\t', '\n ', '\r\n \r\n ']) + s.slice(at);
        break;
      }
      case 3: { // duplicate a header
        const lines = s.slice(0, head).split('\r\n');
        const l = lines[1 + r.int(Math.max(1, lines.length - 1))] || '';
        s = s.replace('\r\n', `\r\n${l}\r\n`);
        break;
      }
      case 4: // truncate anywhere
        s = s.slice(0, r.int(s.length + 1));
        break;
      case 5: { // insert control bytes, NUL and high bytes
        const at = r.int(s.length + 1);
        s = s.slice(0, at) + r.pick(['\0', '\x7f', '\xff\xfe', '\r', '\n', '\x1b[', '%00']) + s.slice(at);
        break;
      }
      case 6: // a second Content-Length that disagrees
        s = s.replace('\r\n\r\n', `\r\nContent-Length: ${r.pick(BIG_LENGTHS)}\r\n\r\n`);
        break;
      case 7: { // a long header value
        const len = r.pick([300, 4096, 20000, 60000]);
        s = s.replace('\r\n', `\r\nX-Long: ${'a'.repeat(len)}\r\n`);
        break;
      }
      default: { // drop a header line
        const lines = s.split('\r\n');
        if (lines.length > 3) lines.splice(1 + r.int(lines.length - 2), 1);
        s = lines.join('\r\n');
      }
    }
  }
  return s;
}
