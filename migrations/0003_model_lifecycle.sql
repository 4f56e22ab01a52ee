CREATE TABLE `feature_drift` (
	`site_id` text NOT NULL,
	`model_version` text NOT NULL,
	`day` text NOT NULL,
	`feature` text NOT NULL,
	`bin` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `model_version`, `day`, `feature`, `bin`)
);
--> statement-breakpoint
CREATE TABLE `model_controls` (
	`id` text PRIMARY KEY NOT NULL,
	`kill_switch` integer DEFAULT false NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `decisions` ADD `arm` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `shadow` text;--> statement-breakpoint
ALTER TABLE `model_versions` ADD `promoted_at` integer;--> statement-breakpoint
ALTER TABLE `model_versions` ADD `size_bytes` integer;