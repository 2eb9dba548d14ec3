// Entry module: sets up the shell (theme, user, live updates, stale banner), then mounts the page's
// module named by the shell's data-page attribute.

import { ctx, initShell, failure, fill, markUpdated } from './core.js';

const pages = {
  fleet: () => import('./fleet.js'),
  cluster: () => import('./cluster.js'),
  node: () => import('./cluster.js'),
  gpu: () => import('./gpu.js'),
  project: () => import('./project.js'),
  sessions: () => import('./sessions.js'),
  search: () => import('./search.js'),
};

async function start() {
  const root = document.getElementById('page');
  await initShell();
  try {
    const mod = await pages[ctx.page]();
    await mod.mount(root, ctx);
    markUpdated();
  } catch (err) {
    console.warn(err);
    fill(root, failure(err));
  } finally {
    root.setAttribute('aria-busy', 'false');
    document.body.dataset.ready = 'true';
  }
}

start();
