export {
	ConnectionRegistry,
	type Connection,
	type ConnectionInfo,
	type ConnectionCounts,
	type ConnectionRegistryOptions,
	type LiveStream,
	type StreamKind
} from './registry'
export { checkAdmission, refusalResponse, type ConnectionLimits, type Refusal } from './limits'
export {
	sseFarewell,
	type DrainOptions,
	type DrainResult,
	type Farewell,
	type Farewells,
	type FarewellContext
} from './drain'
export { formatMetrics, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type Sample } from './metrics'
export { watchCounts, type WatchCountsOptions } from './watch'
export { shareConnectionCounts, clusterConnectionCounts } from './cluster-counts'
