export { connect, SseClient, type ConnectOptions } from './connect'
export { edenSse, readEvents, type EdenSseOptions } from './eden'
export { SseClientError, type SseClientErrorKind } from './errors'
export { readFrames, type StreamState } from './frames'
export { decoderFor, type Decoder } from './decode'
// The registry's schemas without its compiler: the client decodes; checking stays on the
// server (a client that validates takes its registry from sluice/client/validate).
export { events, EventCodec, type EventsOf } from '../events/codec'
export { EventDataError } from '../events/error'
export type { EventMessage, EventSchemas, EventTypes } from '../events/types'
export { readNdjsonRecords, fetchNdjson, edenNdjson, NdjsonStreamError, type ReadNdjsonOptions } from './ndjson'
