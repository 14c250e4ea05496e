export { startServer, type RunningServer } from './start.js';
export { runServiceInForeground } from './foreground.js';
