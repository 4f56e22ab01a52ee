CREATE TABLE `content_variants` (
	`site_id` text NOT NULL,
	`content_id` text NOT NULL,
	`id` text NOT NULL,
	`language` text NOT NULL,
	`components` text NOT NULL,
	`provenance` text NOT NULL,
	`synthetic` integer NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`reviewed_by` text,
	`reviewed_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`site_id`, `content_id`, `id`)
);
--> statement-breakpoint
CREATE INDEX `content_variants_site_status` ON `content_variants` (`site_id`,`status`);