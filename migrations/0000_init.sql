CREATE TABLE `content_items` (
	`site_id` text NOT NULL,
	`id` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`slot_ids` text NOT NULL,
	`render` text NOT NULL,
	`categories` text DEFAULT '[]' NOT NULL,
	`attributes` text DEFAULT '{}' NOT NULL,
	`starts_at` integer,
	`ends_at` integer,
	`default_rank` integer DEFAULT 1000 NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`site_id`, `id`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `content_items_site_status` ON `content_items` (`site_id`,`status`);--> statement-breakpoint
CREATE TABLE `model_versions` (
	`version` text PRIMARY KEY NOT NULL,
	`sha256` text NOT NULL,
	`manifest` text NOT NULL,
	`status` text NOT NULL,
	`traffic_share` real DEFAULT 0 NOT NULL,
	`storage` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sites` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`allowed_origins` text NOT NULL,
	`consent_model` text DEFAULT 'opt-in' NOT NULL,
	`honor_gpc` integer DEFAULT true NOT NULL,
	`tcf_vendor_id` integer,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`origin_url` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `slots` (
	`site_id` text NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`default_count` integer DEFAULT 1 NOT NULL,
	`max_count` integer DEFAULT 10 NOT NULL,
	PRIMARY KEY(`site_id`, `id`),
	FOREIGN KEY (`site_id`) REFERENCES `sites`(`id`) ON UPDATE no action ON DELETE cascade
);
