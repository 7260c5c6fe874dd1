/**
 * Resolves in the event loop's next timers phase, once the timers due by then (VRRP adverts, BFD
 * transmissions) and the sockets' callbacks have run. A large director's work (a 10,000-node
 * site's document, its IPVS table) is long synchronous steps; awaited between them, this keeps any
 * one hold on the loop to a single step. Not setImmediate: queued from a socket's or a job's
 * callback, an immediate runs in the same turn of the loop, before any timer.
 */
export const turnOfTheLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
