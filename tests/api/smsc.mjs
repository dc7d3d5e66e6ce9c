// A test SMSC: the `smpp` npm package's server (node-smpp, from outside the project) playing the
// operator's side for the SMS channel's tests and benchmark. It binds ESMEs (refusing a wrong
// password), answers submit_sm with a message id, reassembles long messages from their UDH,
// sends a delivery receipt per part (re-sent until acknowledged with status 0, also on a later
// bind), and can misbehave on request: throttle, answer late, send the receipt before the
// submit_sm_resp, drop the connection, refuse destinations.
//
// Control over HTTP on --control (JSON): GET /state (messages, parts, counters), POST /mode {…},
// POST /mo {from, to, text} (a customer's reply), POST /kick (close every session),
// POST /reset (forget everything).
//
//   node tests/api/smsc.mjs --port 2775 --control 2776 --system-id kefu --password secret
import { createRequire } from 'node:module';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const smpp = require('smpp');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const port = Number(args.port || 2775);
const control = Number(args.control || port + 1);
const systemId = args['system-id'] || 'kefu';
const password = args.password || 'secret';

const fresh = () => ({
  mode: {
    throttle_every: 0, // every n-th submit_sm is answered ESME_RTHROTTLED
    queue_full_every: 0,
    resp_delay_ms: 0, // the submit_sm_resp comes this late
    receipt_first: false, // the receipt goes out before the submit_sm_resp
    receipt_delay_ms: 0,
    receipts: true,
    drop_after: 0, // close the connection after this many more submit_sm (once)
    undeliverable_prefix: '', // destinations that get UNDELIV receipts
    invalid_prefix: '', // destinations answered ESME_RINVDSTADR
  },
  parts: [], // every submit_sm accepted: {id, to, from, dc, ref, total, seq, text}
  messages: [], // reassembled: {to, from, text, parts: [ids]}
  pending: new Map(), // concatenation reference → parts so far
  unacked: new Map(), // receipts not yet acknowledged with status 0: id → pdu fields
  counters: { submits: 0, throttled: 0, queue_full: 0, binds: 0, refused_binds: 0, receipts_sent: 0,
              receipts_acked: 0, receipt_nacks: 0, mo_sent: 0, mo_acked: 0, max_unanswered: 0, drops: 0 },
});
let st = fresh();
let nextId = 1;
let unanswered = 0;
const sessions = new Set();

function sendReceipt(session, r) {
  st.counters.receipts_sent++;
  session.deliver_sm(
    { source_addr: r.to, destination_addr: r.from, esm_class: 4, short_message: r.text, receipted_message_id: r.id },
    (resp) => {
      if (resp.command_status === 0) {
        st.counters.receipts_acked++;
        st.unacked.delete(r.id);
      } else {
        st.counters.receipt_nacks++;
        setTimeout(() => sessions.has(session) && st.unacked.has(r.id) && sendReceipt(session, r), 300);
      }
    },
  );
}

function receiptFor(part) {
  const bad = st.mode.undeliverable_prefix && part.to.startsWith(st.mode.undeliverable_prefix);
  const stat = bad ? 'UNDELIV' : 'DELIVRD';
  const r = {
    id: part.id, to: part.to, from: part.from,
    text: `id:${part.id} sub:001 dlvrd:${bad ? '000' : '001'} submit date:2612051200 done date:2612051200 stat:${stat} err:${bad ? '001' : '000'} text:`,
  };
  st.unacked.set(r.id, r);
  return r;
}

function record(pdu, id) {
  const sm = pdu.short_message || {};
  const part = { id, to: pdu.destination_addr, from: pdu.source_addr, dc: pdu.data_coding, ref: 0, total: 1, seq: 1,
                 text: typeof sm.message === 'string' ? sm.message : Buffer.from(sm.message || '').toString('latin1') };
  for (const u of sm.udh || []) if (u[0] === 0) [part.ref, part.total, part.seq] = [u[2], u[3], u[4]];
  st.parts.push(part);
  if (part.total === 1) {
    st.messages.push({ to: part.to, from: part.from, text: part.text, parts: [id] });
    return part;
  }
  const key = `${part.to}/${part.ref}/${part.total}`;
  const have = st.pending.get(key) || [];
  if (!have.some((p) => p.seq === part.seq)) have.push(part); // a re-sent part is one part
  st.pending.set(key, have);
  if (have.length === part.total) {
    have.sort((a, b) => a.seq - b.seq);
    st.messages.push({ to: part.to, from: part.from, text: have.map((p) => p.text).join(''), parts: have.map((p) => p.id) });
    st.pending.delete(key);
  }
  return part;
}

const server = smpp.createServer((session) => {
  session.socket.setNoDelay(true); // a response per PDU, not held back by Nagle
  sessions.add(session);
  session.on('close', () => sessions.delete(session));
  session.on('error', () => {});
  session.on('bind_transceiver', (pdu) => {
    if (pdu.system_id !== systemId || pdu.password !== password) {
      st.counters.refused_binds++;
      session.send(pdu.response({ command_status: pdu.system_id !== systemId ? smpp.ESME_RINVSYSID : smpp.ESME_RINVPASWD }));
      return;
    }
    st.counters.binds++;
    session.send(pdu.response({ system_id: 'TESTSMSC' }));
    // What an earlier session left unacknowledged comes again on this one.
    for (const r of st.unacked.values()) sendReceipt(session, r);
  });
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => {
    const m = st.mode;
    st.counters.submits++;
    unanswered++;
    st.counters.max_unanswered = Math.max(st.counters.max_unanswered, unanswered);
    const answer = (fields, after) => {
      const go = () => {
        unanswered--;
        if (sessions.has(session)) session.send(pdu.response(fields));
        after && after();
      };
      m.resp_delay_ms ? setTimeout(go, m.resp_delay_ms) : go();
    };
    if (m.drop_after > 0 && --m.drop_after === 0) {
      st.counters.drops++;
      unanswered--;
      session.destroy();
      return;
    }
    if (m.throttle_every && st.counters.submits % m.throttle_every === 0) {
      st.counters.throttled++;
      return answer({ command_status: smpp.ESME_RTHROTTLED });
    }
    if (m.queue_full_every && st.counters.submits % m.queue_full_every === 0) {
      st.counters.queue_full++;
      return answer({ command_status: smpp.ESME_RMSGQFUL });
    }
    if (m.invalid_prefix && pdu.destination_addr.startsWith(m.invalid_prefix))
      return answer({ command_status: smpp.ESME_RINVDSTADR });
    const id = (nextId++).toString(16).toUpperCase().padStart(8, '0');
    const part = record(pdu, id);
    if (!m.receipts) return answer({ message_id: id });
    const r = receiptFor(part);
    if (m.receipt_first) {
      sendReceipt(session, r);
      return answer({ message_id: id });
    }
    answer({ message_id: id }, () => setTimeout(() => sessions.has(session) && st.unacked.has(r.id) && sendReceipt(session, r), m.receipt_delay_ms));
  });
});
server.listen(port, '127.0.0.1');

const reply = (res, code, body) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
http
  .createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = body ? JSON.parse(body) : {};
      if (req.method === 'GET' && req.url === '/state')
        return reply(res, 200, { mode: st.mode, counters: st.counters, sessions: sessions.size, messages: st.messages,
                                 parts: st.parts.length, unacked: st.unacked.size });
      if (req.method === 'POST' && req.url === '/mode') {
        Object.assign(st.mode, json);
        return reply(res, 200, st.mode);
      }
      if (req.method === 'POST' && req.url === '/reset') {
        st = fresh();
        return reply(res, 200, {});
      }
      if (req.method === 'POST' && req.url === '/kick') {
        for (const s of sessions) s.destroy();
        return reply(res, 200, {});
      }
      if (req.method === 'POST' && req.url === '/mo') {
        const s = [...sessions][0];
        if (!s) return reply(res, 409, { error: 'no ESME is bound' });
        st.counters.mo_sent++;
        s.deliver_sm({ source_addr: json.from, destination_addr: json.to, short_message: json.text }, (r) => {
          if (r.command_status === 0) st.counters.mo_acked++;
        });
        return reply(res, 200, {});
      }
      reply(res, 404, {});
    });
  })
  .listen(control, '127.0.0.1', () => console.log(`smsc listening on ${port}, control on ${control}`));
