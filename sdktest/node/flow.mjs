// flow.mjs drives the integration flow through stripe-node, unmodified,
// against a verso serve: node flow.mjs URL KEY. It prints one line per
// step and exits 1 at the first failure.
import assert from 'node:assert/strict';
import Stripe from 'stripe';

const [url, key] = process.argv.slice(2);
const u = new URL(url);
const stripe = new Stripe(key, {host: u.hostname, port: u.port, protocol: 'http', maxNetworkRetries: 0});
const pinned = Stripe.API_VERSION ?? stripe.getApiField('version');

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
  assert.match(pinned, /^\d{4}-\d{2}-\d{2}\.[a-z]+$/);
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
  const pi = await stripe.paymentIntents.create({amount: 1500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, expand: ['latest_charge']});
  served(pi);
  assert.equal(pi.status, 'succeeded');
  assert.equal(pi.latest_charge.amount, 1500);
  assert.equal(pi.latest_charge.payment_method_details.card.brand, 'visa');
  const re = await stripe.refunds.create({payment_intent: pi.id});
  assert.equal(re.charge, pi.latest_charge.id);
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
