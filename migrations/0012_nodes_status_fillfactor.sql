-- Every apply updates one nodes row per changed node, and every status report its node_status row;
-- neither update touches an indexed column. With pages half free, PostgreSQL writes the new row
-- version beside the old one (a heap-only tuple) and leaves the indexes alone; on full pages each
-- update also inserts into every index. Rows written before this keep their pages until updated.
ALTER TABLE "nodes" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "node_status" SET (fillfactor = 50);
