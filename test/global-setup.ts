// Placeholder: replaced by the database setup (embedded PostgreSQL or DATABASE_URL template).
export default async function setup() {}
