-- The large values (a director's claims: 350 KB at 1,000 nodes, 3.5 MB at 10,000; a site's spec; a
-- director's status) are compressed when stored out of line. lz4 compresses them in about two
-- thirds of the time pglz takes: two 3.5 MB claims in 55-58 ms against 81-92. Where the server has
-- no lz4 (PGlite), they stay with pglz. Values already stored keep their compression.
DO $$
BEGIN
  ALTER TABLE "outbox" ALTER COLUMN "claims" SET COMPRESSION lz4;
  ALTER TABLE "site_revisions" ALTER COLUMN "spec" SET COMPRESSION lz4;
  ALTER TABLE "node_status" ALTER COLUMN "status" SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END $$;
