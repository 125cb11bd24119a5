import { createRouter, createWebHashHistory } from 'vue-router';
import { loadSession, NAV, session } from './api.ts';

export const router = createRouter({
  // Hash history: every console URL is `/`, so the server never has to guess which paths are pages.
  history: createWebHashHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/Login.vue') },
    { path: '/inbox', name: 'inbox', component: () => import('./views/Inbox.vue') },
    { path: '/flags/:id', name: 'flag', component: () => import('./views/Flag.vue'), props: true },
    { path: '/workspace', name: 'workspace', component: () => import('./views/Workspace.vue') },
    { path: '/dashboards', name: 'dashboards', component: () => import('./views/Dashboards.vue') },
    { path: '/query', name: 'query', component: () => import('./views/Query.vue') },
    { path: '/reports', name: 'reports', component: () => import('./views/Reports.vue') },
    { path: '/projects', name: 'projects', component: () => import('./views/Projects.vue') },
    { path: '/alerts', name: 'alerts', component: () => import('./views/Alerts.vue') },
    { path: '/:rest(.*)*', name: 'home', component: { render: () => null } },
  ],
});

router.beforeEach(async (to) => {
  if (!session.checked) await loadSession();
  const me = session.me;
  if (to.name === 'login') return me ? { name: NAV[me.role][0] } : true;
  if (!me) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  const allowed = NAV[me.role];
  // The flag page is open to every role that reads flags; the server scopes what it shows.
  if (to.name === 'flag') return me.role === 'portal' ? { name: 'alerts' } : true;
  if (!allowed.includes(String(to.name))) return { name: allowed[0] };
  return true;
});
