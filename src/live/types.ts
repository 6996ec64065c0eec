// What the live hub's feeds push into. Free of imports, so that any domain can implement it.

/** Where a feed pushes rows, synchronously, in commit order. */
export interface Sink<T> {
  push(row: T): void;
}

/** Something a feed can end when the API key it was opened with is revoked. */
export interface Revocable {
  revoked(): void;
}
