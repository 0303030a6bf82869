// The SIP edge under attack (issue 17, docs/SIP.md "What the edge refuses"):
// RFC 4475's unusual-method request is answered 501 with Allow over UDP and
// TCP; an absurd Content-Length in the second message of a TCP stream is
// refused 413 instead of allocating 2 GiB (an assertion in sofia under ASan);
// 20,000 mutated requests over UDP and TCP leave the server alive, with no
// sanitizer report (Server.stop checks), and a normal call still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import net from 'node:net';
import { Server } from './lib/server.mjs';
import { sipp } from './lib/peers.mjs';
import { rng, baseMessages, mutate } from './lib/mutate.mjs';

let sb;
before(async () => { sb = await new Server().start(); });
after(async () => { await sb.stop(); });

// RFC 4475 §3.1.1.2 "intmeth", byte for byte but for the Via sent-by, which
// names our socket so the answer comes back to it (with rport for UDP).
function intmeth(transport, sentBy, branch) {
  return Buffer.from([
    "!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
    `Via: SIP/2.0/${transport} ${sentBy};rport;branch=z9hG4bK-.!%66*_+\`'~${branch}`,
    'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/crazy?,/;;*@example.com>',
    'From: token1~` token2\'+_ token3*%!.- <sip:mundane@example.com>;fromParam\'\'~+*_!.-%="\xD1\x80\xD0\xB0\xD0\xB1\xD0\xBE\xD1\x82\xD0\xB0\xD1\x8E\xD1\x89\xD0\xB8\xD0\xB9";tag=_token~1\'+`*%!-.',
    `Call-ID: intmeth.word%ZK-!.*_+'@word\`~)(><:\\/"][?}{${branch}`,
    "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
    'Max-Forwards: 255',
    "extensionHeader-!.%*+_`'~: \xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB",
    'Content-Length: 0', '', ''].join('\r\n'), 'latin1');
}

function udpExchange(port, make, timeoutMs = 3000) {
  return new Promise((ok, fail) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); fail(new Error('no answer over UDP')); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); ok(m.toString('latin1')); });
    s.bind(0, '127.0.0.1', () => s.send(make(`127.0.0.1:${s.address().port}`), port, '127.0.0.1'));
  });
}

// Writes `make(sentBy)` on a new TCP connection; resolves with everything
// received until `count` final responses arrived or the timeout.
function tcpExchange(port, make, { count = 1, timeoutMs = 3000 } = {}) {
  return new Promise((ok, fail) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(make(`127.0.0.1:${s.localPort}`)));
    const finals = () => (got.match(/^SIP\/2\.0 [2-6]\d\d /gm) || []).length;
    const t = setTimeout(() => { s.destroy(); finals() >= count ? ok(got) : fail(new Error(`TCP: ${got || 'no answer'}`)); }, timeoutMs);
    s.on('data', (d) => { got += d.toString('latin1'); if (finals() >= count) { clearTimeout(t); s.destroy(); ok(got); } });
    s.on('error', (e) => { clearTimeout(t); fail(e); });
  });
}

test('an unknown method with unusual token characters is answered 501 with Allow (UDP, TCP)', async () => {
  const udp = await udpExchange(sb.sipPort, (by) => intmeth('UDP', by, 'u'));
  assert.match(udp, /^SIP\/2\.0 501 /);
  assert.match(udp, /^Allow: .*INVITE/m);
  assert.match(udp, /^CSeq: 139122385 !interesting-Method0123456789_\*\+`\.%indeed'~\r$/m);
  const tcp = await tcpExchange(sb.sipPort, (by) => intmeth('TCP', by, 't'));
  assert.match(tcp, /^SIP\/2\.0 501 /);
  assert.match(tcp, /^Allow: .*INVITE/m);
});

function options(transport, sentBy, tag, extra = '') {
  return [`OPTIONS sip:127.0.0.1:${sb.sipPort} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${sentBy};rport;branch=z9hG4bK-${tag}`, 'Max-Forwards: 70',
    `To: <sip:127.0.0.1:${sb.sipPort}>`, `From: <sip:edge@127.0.0.1>;tag=${tag}`,
    `Call-ID: ${tag}@edge`, 'CSeq: 1 OPTIONS', extra, ''].join('\r\n');
}

test('a huge Content-Length is refused without allocating it, in any message of a TCP stream', async () => {
  const big = (by) => options('TCP', by, 'cl1', 'Content-Length: 0\r\n')
    + options('TCP', by, 'cl2', 'Content-Type: application/sdp\r\nContent-Length: 2147483648\r\n') + 'v=0\r\n';
  const tcp = await tcpExchange(sb.sipPort, big, { count: 2 });
  assert.match(tcp, /^SIP\/2\.0 200 /m, 'the first message of the stream is answered');
  assert.match(tcp, /^SIP\/2\.0 413 /m, 'the second is too large');
  const udp = await udpExchange(sb.sipPort, (by) => Buffer.from(options('UDP', by, 'cl3',
    'Content-Type: application/sdp\r\nContent-Length: 2147483648\r\n') + 'v=0\r\n'));
  assert.match(udp, /^SIP\/2\.0 400 /);
  const h = await sb.api('GET', '/api/v1/health');
  assert.equal(h.status, 200);
});

test('a NUL byte in the headers gets 400 over TCP too, not a connection left waiting', async () => {
  const tcp = await tcpExchange(sb.sipPort, (by) => options('TCP', by, 'nul1', 'Subject: a\x00b\r\nContent-Length: 0\r\n'));
  assert.match(tcp, /^SIP\/2\.0 400 /);
});

async function udpBurst(port, r, n) {
  const base = baseMessages(port, 'UDP');
  const s = createSocket('udp4');
  await new Promise((ok) => s.bind(0, '127.0.0.1', ok));
  s.on('message', () => {});
  for (let i = 0; i < n; i++) {
    const m = Buffer.from(mutate(r, r.pick(base)(`u${i}`)), 'latin1').subarray(0, 65000);
    await new Promise((ok) => s.send(m, port, '127.0.0.1', ok));
    if (i % 100 === 99) await new Promise((ok) => setTimeout(ok, 5)); // ~10,000/s at most
  }
  s.close();
}

// n mutants in streams of `per` messages, `par` connections at a time.
async function tcpBurst(port, r, n, per = 40, par = 16) {
  const base = baseMessages(port, 'TCP');
  const one = (c) => new Promise((ok) => {
    const chunks = [];
    for (let i = 0; i < per; i++) chunks.push(Buffer.from(mutate(r, r.pick(base)(`t${c}-${i}`)), 'latin1'));
    const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.concat(chunks)));
    s.on('data', () => {}); s.on('error', ok); s.on('close', ok);
    setTimeout(() => { s.destroy(); ok(); }, 1500); // a truncated message waits for more
  });
  for (let c = 0; c < n / per; c += par) {
    await Promise.all(Array.from({ length: Math.min(par, n / per - c) }, (_, k) => one(c + k)));
  }
}

test('20,000 mutated requests over UDP and TCP: the server lives and a normal call works', async () => {
  const seed = Number(process.env.SB_MUTATE_SEED || 17);
  const r = rng(seed);
  await udpBurst(sb.sipPort, r, 12000);
  await tcpBurst(sb.sipPort, r, 8000);
  assert.equal(sb.proc.exitCode, null, `server died (seed ${seed}):\n${sb.log.slice(-3000)}`);
  assert.doesNotMatch(sb.log, /AddressSanitizer|runtime error:|Assertion/, `seed ${seed}`);
  const h = await sb.api('GET', '/api/v1/health');
  assert.equal(h.status, 200);
  const o = await sipp(sb, 'options.xml', {});
  assert.equal(o.code, 0, o.out);
  const call = await sipp(sb, 'caller.xml', { service: '5000', pauseMs: 1000 });
  assert.equal(call.code, 0, call.out);
  assert.match(call.messages, /SIP\/2\.0 200 OK/);
});
