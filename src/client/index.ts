// sluice/client: the public API of the client, as docs/api.md lists it.
export { SluiceError, OptionError } from '../errors'
export { connect, SseClient, type ConnectOptions, type RequestHeaders } from './connect'
export { shareTopics, SharedTopics, type ShareOptions } from './share'
export { shareWorker } from './share-worker'
export { edenSse, type EdenSseOptions } from './eden'
export { SseClientError, type SseClientErrorKind } from './errors'
// The registry's schemas without its compiler: the client decodes; checking stays on the
// server (a client that validates takes its registry from sluice/client/validate).
export { events, EventCodec, type EventsOf } from '../events/codec'
export type { EventMessage, EventSchemas, EventTypes } from '../events/types'
export { readNdjsonRecords, fetchNdjson, edenNdjson, NdjsonStreamError, type ReadNdjsonOptions } from './ndjson'
