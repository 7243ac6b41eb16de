/**
 * `tusk/gateway`: the Walrus-compatible HTTP gateway — publisher and aggregator (`tusk daemon`)
 * as a library, and its route table (from which /v1/api's OpenAPI is generated).
 */
export { startDaemon, type Daemon, type DaemonMode, type DaemonOptions } from '../gateway/daemon.ts';
export { RouteTable, type RouteDefinition, type RouteContext } from '../gateway/route-table.ts';
