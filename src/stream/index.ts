export {
	ResponseStream,
	newStreamId,
	type CloseReason,
	type CloseListener,
	type StreamTrouble,
	type ResponseStreamOptions,
	type TimeoutSetter
} from './response-stream'
export { addCloseListener, notifyClose } from './close-listeners'
export { pump, type Source, type PumpOptions } from './pump'
export { streamingHeaders } from './headers'
export { abortableSleep } from './sleep'
export { isSource, type StreamContext } from './context'
export {
	bodyStream,
	TEXT_CONTENT_TYPE,
	type Chunk,
	type BodyStreamHandle,
	type BodyStreamCallback,
	type BodyStreamOptions
} from './body'
