// For a client that passes `validate: true` to connect() or edenSse(): its registry must be able
// to check, so it is made with this events(), which brings TypeBox's schema compiler (about 50 KB
// minified; it compiles with eval, so not under a strict CSP). The server's `events()` is the same.
export { events, EventRegistry } from '../events/registry'
