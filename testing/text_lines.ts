/**
 * A minimal `TransformStream` from text to lines, for reading child process
 * output in tests (JSR's std/streams is not reachable from our CI). Not used
 * on the server's socket path, which has its own length-capped splitter.
 *
 * @module
 */

/** Splits text into lines on LF, dropping a trailing CR. */
export class TextLineStream extends TransformStream<string, string> {
  constructor() {
    let partial = "";
    super({
      transform(chunk, controller) {
        const parts = (partial + chunk).split("\n");
        partial = parts.pop() as string;
        for (const part of parts) controller.enqueue(part.replace(/\r$/, ""));
      },
      flush(controller) {
        if (partial !== "") controller.enqueue(partial);
      },
    });
  }
}
