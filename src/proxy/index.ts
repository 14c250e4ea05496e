export { registerProxyRoutes, type ProxyContext } from './proxy-routes.js';
