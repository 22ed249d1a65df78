// flow.mjs drives the integration flow through one stripe-node release,
// unmodified, against a verso serve: node flow.mjs URL KEY [PACKAGE],
// where PACKAGE is one of package.json's dependencies (default "stripe").
// It prints one line per step and exits 1 at the first failure.
import assert from 'node:assert/strict';
import http from 'node:http';
import {readFileSync} from 'node:fs';

const [url, key, pkg = 'stripe'] = process.argv.slice(2);
const Stripe = (await import(pkg)).default;
const manifest = JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8'));
const u = new URL(url);
const options = {host: u.hostname, port: u.port, protocol: 'http', maxNetworkRetries: 0};
// Before 12, stripe-node sends no version of its own; an integration then
// asks for the version its TypeScript types declare (types/2020-08-27/).
const declared = /types\/(\d{4}-\d{2}-\d{2}(?:\.[a-z]+)?)\//.exec(manifest.types ?? '')?.[1];
let stripe = new Stripe(key, options);
let pinned = Stripe.API_VERSION ?? stripe.getApiField('version');
if (!pinned && declared) {
  pinned = declared;
  stripe = new Stripe(key, {...options, apiVersion: pinned});
}
console.log(`# ${pkg} ${manifest.version}`);

async function step(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.stack || err}`);
    process.exit(1);
  }
}

function served(res) {
  assert.equal(res.lastResponse.headers['stripe-version'], pinned);
  assert.match(res.lastResponse.requestId, /^req_/);
}

const email = `node-${Date.now()}@example.com`;
const ids = [];

await step(`the SDK pins ${pinned}`, async () => {
  assert.match(pinned, /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/);
});

await step('customers', async () => {
  for (let i = 0; i < 3; i++) {
    const c = await stripe.customers.create({email, name: 'Jenny Rosen'});
    served(c);
    ids.push(c.id);
  }
  const c = await stripe.customers.update(ids[0], {metadata: {order: '6735'}, balance: -500});
  assert.equal(c.metadata.order, '6735');
  assert.equal(c.balance, -500);
  const all = await stripe.customers.list({email, limit: 2}).autoPagingToArray({limit: 10});
  assert.deepEqual(all.map((c) => c.id), [ids[2], ids[1], ids[0]]);
  const page = await stripe.customers.list({email, ending_before: ids[0]});
  assert.deepEqual(page.data.map((c) => c.id), [ids[2], ids[1]]);
  const d = await stripe.customers.del(ids[1]);
  assert.equal(d.deleted, true);
});

await step('charges and refunds', async () => {
  const ch = await stripe.charges.create({amount: 2000, currency: 'usd', source: 'tok_visa'});
  served(ch);
  assert.equal(ch.amount, 2000);
  assert.equal(ch.status, 'succeeded');
  const re = await stripe.refunds.create({charge: ch.id, amount: 500});
  assert.equal(re.amount, 500);
  const got = await stripe.charges.retrieve(ch.id, {expand: ['refunds']});
  assert.equal(got.amount_refunded, 500);
  assert.equal(got.refunds.data[0].id, re.id);
});

await step('payment intents', async () => {
  // Before 2022-11-15 a payment intent embeds its charges; from then on it
  // names its latest_charge.
  const embeds = pinned < '2022-11-15';
  const pi = await stripe.paymentIntents.create({amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, ...(embeds ? {} : {expand: ['latest_charge']})});
  served(pi);
  assert.equal(pi.status, 'succeeded');
  const charge = embeds ? pi.charges.data[0] : pi.latest_charge;
  assert.equal(embeds, pi.latest_charge === undefined);
  assert.equal(charge.amount, 1500);
  assert.equal(charge.payment_method_details.card.brand, 'visa');
  const re = await stripe.refunds.create({payment_intent: pi.id});
  assert.equal(re.charge, charge.id);
  assert.equal(re.amount, 1500);
});

await step('events', async () => {
  const evs = await stripe.events.list({type: 'payment_intent.succeeded', limit: 1});
  assert.equal(evs.data.length, 1);
  assert.equal(evs.data[0].data.object.object, 'payment_intent');
  const ev = await stripe.events.retrieve(evs.data[0].id);
  assert.equal(ev.id, evs.data[0].id);
});

await step('typed errors', async () => {
  await assert.rejects(stripe.customers.retrieve('cus_nope'), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeInvalidRequestError, err.constructor.name);
    assert.equal(err.statusCode, 404);
    assert.equal(err.code, 'resource_missing');
    assert.equal(err.param, 'id');
    assert.match(err.requestId, /^req_/);
    return true;
  });
  await assert.rejects(stripe.paymentIntents.create({currency: 'usd'}), (err) => {
    assert.equal(err.code, 'parameter_missing');
    assert.equal(err.param, 'amount');
    return true;
  });
  await assert.rejects(stripe.paymentIntents.create({amount: 900, currency: 'usd', payment_method: 'pm_card_chargeDeclinedExpiredCard', confirm: true}), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeCardError, err.constructor.name);
    assert.equal(err.statusCode, 402);
    assert.equal(err.code, 'expired_card');
    assert.equal(err.decline_code, 'expired_card');
    assert.equal(err.payment_intent.status, 'requires_payment_method');
    return true;
  });
});

await step('idempotent retries', async () => {
  const idempotencyKey = `node-idem-${Date.now()}`;
  const first = await stripe.customers.create({email: 'idem@example.com'}, {idempotencyKey});
  const again = await stripe.customers.create({email: 'idem@example.com'}, {idempotencyKey});
  assert.equal(again.id, first.id);
  assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  await assert.rejects(stripe.customers.create({email: 'other@example.com'}, {idempotencyKey}), (err) => {
    assert.ok(err instanceof Stripe.errors.StripeIdempotencyError, err.constructor.name);
    return true;
  });
});

await step('webhook verified by the SDK', async () => {
  const got = [];
  let wake;
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({body: Buffer.concat(chunks), sig: req.headers['stripe-signature']});
      res.end();
      if (wake) wake();
    });
  });
  await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
  try {
    const ep = await stripe.webhookEndpoints.create({
      url: `http://127.0.0.1:${receiver.address().port}/hook`,
      enabled_events: ['customer.created'],
      api_version: pinned,
    });
    assert.equal(ep.api_version, pinned);
    assert.match(ep.secret, /^whsec_/);
    const c = await stripe.customers.create({email: `hook-${email}`});
    if (got.length === 0) {
      await new Promise((ok, fail) => {
        wake = ok;
        setTimeout(() => fail(new Error('no webhook delivery in 30 seconds')), 30000).unref();
      });
    }
    const {body, sig} = got[0];
    const event = stripe.webhooks.constructEvent(body, sig, ep.secret);
    assert.equal(event.type, 'customer.created');
    assert.equal(event.api_version, pinned);
    assert.equal(event.data.object.id, c.id);
    assert.throws(() => stripe.webhooks.constructEvent(body, sig, 'whsec_wrong'));
  } finally {
    receiver.close();
  }
});
