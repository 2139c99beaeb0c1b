// What the pages import as /sluice-client.js: sluice/client's connect() and the examples'
// typed events, bundled for the browser by the example when it starts (no CDN).
export { connect } from 'sluice/client'
export { chatEvents, analyticsEvents } from './events'
