CREATE TABLE `catalogue_imports` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`source` text NOT NULL,
	`mode` text NOT NULL,
	`status` text NOT NULL,
	`added` integer NOT NULL,
	`changed` integer NOT NULL,
	`archived` integer NOT NULL,
	`refused` integer NOT NULL,
	`refused_sample` text NOT NULL,
	`error` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `catalogue_imports_site` ON `catalogue_imports` (`site_id`,`created_at`);--> statement-breakpoint
ALTER TABLE `content_items` ADD `availability` text DEFAULT 'in_stock' NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `status` text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE `sites` ADD `feed_url` text;--> statement-breakpoint
ALTER TABLE `slots` ADD `status` text DEFAULT 'active' NOT NULL;