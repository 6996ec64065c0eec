// Webhook delivery ids as clients see them: `whd_` and the stored UUID's 32 hex digits, like every
// other vidq id has a prefix. The UUID stays the row's key (it is also the first queue job's id); a
// bare UUID, as earlier versions answered, is still accepted wherever an id is looked up.
const PUBLIC = /^whd_([0-9a-f]{32})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function publicDeliveryId(uuid: string): string {
  return `whd_${uuid.replace(/-/g, '').toLowerCase()}`;
}

/** The stored UUID of a delivery id in either form, or null when it is neither. */
export function storedDeliveryId(id: string): string | null {
  const hex = PUBLIC.exec(id)?.[1];
  if (hex) return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return UUID.test(id) ? id.toLowerCase() : null;
}
