// Links @swim/client to the chat example's lobby on a running Weft node and checks that
// it receives the lanes' state and then every change, in order, including changes made
// by its own commands. Usage: node link.mjs warp://127.0.0.1:PORT
// (@swim/args, which @swim/client declares only for its command-line tool, is not on the
// registry; package.json points it at @swim/util, which the library never loads from.)
import { WarpClient } from "@swim/client";

const host = process.argv[2];
const node = "/rooms/lobby";
const N = 120;
const KEEP = 50;

const fail = (why) => {
  console.error(`FAIL: ${why}`);
  process.exit(1);
};
const timer = setTimeout(() => fail(`timed out; seen ${JSON.stringify(seen())}`), 30000);

const client = new WarpClient();
const inserted = [];
let synced = 0;
let done = false;
const onSync = () => {
  synced += 1;
  if (synced === 4) start();
};

const messages = client.downlinkList({
  hostUri: host, nodeUri: node, laneUri: "messages",
  didUpdate(index, value, old) {
    if (!old.isDefined()) inserted.push(value.get("text").stringValue());
    check();
  },
  didSync: onSync,
}).open();
const members = client.downlinkMap({
  hostUri: host, nodeUri: node, laneUri: "members",
  didUpdate() { check(); },
  didSync: onSync,
}).open();
const keep = client.downlinkValue({
  hostUri: host, nodeUri: node, laneUri: "keep", didSync: onSync,
}).open();
const summaries = [];
const summary = client.downlinkValue({
  hostUri: host, nodeUri: node, laneUri: "summary",
  didSet(value) { summaries.push(value.stringValue()); check(); },
  didSync: onSync,
}).open();

function texts() {
  const out = [];
  for (let i = 0; i < messages.size; i += 1) out.push(messages.get(i).get("text").stringValue());
  return out;
}

function seen() {
  return { texts: texts(), swim: members.get("swim").numberValue(), summaries: summaries.slice(-1) };
}

function eq(a, b, what) {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    fail(`${what}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
  }
}

let started = false;
function start() {
  eq(texts(), ["hello", "hi ada"], "the synced messages");
  eq(members.get("ada").numberValue(), 1, "ada's count");
  eq(members.get("grace").numberValue(), 1, "grace's count");
  eq(keep.get().numberValue(), KEEP, "the keep lane");
  eq(summaries[summaries.length - 1], "2 messages from 2 members", "the demand lane");
  inserted.length = 0;
  started = true;
  for (let i = 0; i < N; i += 1) {
    client.command(host, node, "say", { from: "swim", text: `m${i}` });
  }
}

function check() {
  if (!started || done) return;
  const swim = members.get("swim").numberValue(0);
  const last = summaries[summaries.length - 1];
  if (swim < N || inserted.length < N || last !== `${KEEP} messages from 3 members`) return;
  done = true;
  const sent = Array.from({ length: N }, (_, i) => `m${i}`);
  eq(inserted, sent, "every inserted message, in order");
  eq(texts(), ["hello", "hi ada", ...sent].slice(-KEEP), "the final list");
  clearTimeout(timer);
  console.log(`ok: ${N} commands, ${inserted.length} inserts in order, final list of ${messages.size}`);
  process.exit(0);
}
