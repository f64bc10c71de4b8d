// Reads a `text/event-stream` response body as parsed JSON `data:` payloads (one per event).
export async function* readEventStream(res: Response): AsyncGenerator<unknown> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buf = '';
  let data: string[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length > 0) {
          try {
            yield JSON.parse(data.join('\n'));
          } catch {
            // not JSON: not one of ours
          }
        }
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  }
}
