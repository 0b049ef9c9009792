// Wires the scan page's "check it yourself" button (#check-yourself) to check.js and writes the
// outcome, in plain words, into #check-result (aria-live). The evidence is the page's
// <script type="application/json" id="lotlink-evidence">. No framework; text only (no innerHTML).
import { checkEvidence, parseEvidence } from './check.js';

const STEP_NAMES = {
  hash: 'Event hash',
  signature: 'Signature',
  proof: 'Merkle proof',
  chain: 'On chain',
};

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export function render(result, target) {
  target.replaceChildren();
  target.dataset.status = result.status;
  target.append(element('p', result.text, { class: 'check-overall', 'data-status': result.status }));
  const list = element('ol', undefined, { class: 'check-events' });
  for (const event of result.events) {
    const item = element('li', undefined, { 'data-status': event.status, 'data-digest': event.digest || '' });
    item.append(element('p', event.text, { class: 'check-event' }));
    if (event.eventId) item.append(element('p', event.eventId, { class: 'check-event-id' }));
    const steps = element('ul', undefined, { class: 'check-steps' });
    for (const [key, step] of Object.entries(event.steps)) {
      steps.append(element('li', `${STEP_NAMES[key]}: ${step.text}`, { 'data-step': key, 'data-status': step.status }));
    }
    item.append(steps);
    list.append(item);
  }
  target.append(list);
}

async function run(button, target) {
  button.disabled = true;
  target.dataset.status = 'checking';
  target.replaceChildren(element('p', 'Checking against the chain…'));
  try {
    const source = document.getElementById('lotlink-evidence');
    if (!source) throw new Error('this page carries no evidence to check');
    render(await checkEvidence(parseEvidence(source.textContent)), target);
  } catch (error) {
    target.dataset.status = 'error';
    target.replaceChildren(element('p', `Could not check this page: ${error.message}`));
  } finally {
    button.disabled = false;
  }
}

function wire() {
  const button = document.getElementById('check-yourself');
  const target = document.getElementById('check-result');
  if (!button || !target) return;
  button.addEventListener('click', () => run(button, target));
  button.dataset.ready = 'true';
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
  else wire();
}
