export { SseFieldError, type SseEvent } from './event'
export { encodeSse, encodeSseBytes, encodeComment, dataText } from './encode'
export { lastEventIdOf, eventIdNumber } from './last-event-id'
export { jitteredRetry } from './retry'
export {
	sseStream,
	type SseItem,
	type SseHandle,
	type SseCallback,
	type SseOptions,
	type SseContext,
	type SendOptions,
	type EventWire
} from './respond'
