import type { MqttClient } from 'mqtt';

/**
 * Resolves with `client` once it is connected. A refusal the broker answered (a CONNACK with a
 * reason code: bad credentials, not authorised) rejects at once. A try that failed before any
 * answer (a closed port, a CONNACK that did not come within the client's connectTimeout) is left
 * to mqtt.js's reconnect until `timeoutMs`: a loaded broker is slow to answer now and then, and
 * an enrollment that needs the broker should not fail on the first slow CONNACK. Ends the client
 * when it rejects.
 */
export function connectedWithin(client: MqttClient, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    let last: Error | null = null;
    const give = (err: Error) => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      client.end(true);
      reject(err);
    };
    const timer = setTimeout(() => give(new Error(`${last?.message ?? 'no CONNACK'} (gave up after ${timeoutMs} ms)`)), timeoutMs);
    const onConnect = () => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve(client);
    };
    const onError = (err: Error) => {
      last = err;
      if (typeof (err as { code?: unknown }).code === 'number') give(err);
    };
    client.once('connect', onConnect);
    client.on('error', onError);
  });
}
