CREATE TABLE `daily_aggregates` (
	`site_id` text NOT NULL,
	`metric` text NOT NULL,
	`day` text NOT NULL,
	`key` text NOT NULL,
	`count` integer DEFAULT 0 NOT NULL,
	`hits` integer DEFAULT 0 NOT NULL,
	`sum` real DEFAULT 0 NOT NULL,
	`impressions` integer DEFAULT 0 NOT NULL,
	`clicks` integer DEFAULT 0 NOT NULL,
	`conversions` integer DEFAULT 0 NOT NULL,
	`dismissals` integer DEFAULT 0 NOT NULL,
	`value` real DEFAULT 0 NOT NULL,
	`visitors` integer DEFAULT 0 NOT NULL,
	`converters` integer DEFAULT 0 NOT NULL,
	`conversions_sq` integer DEFAULT 0 NOT NULL,
	`value_sq` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `metric`, `day`, `key`)
);
--> statement-breakpoint
CREATE INDEX `daily_aggregates_day` ON `daily_aggregates` (`day`);--> statement-breakpoint
CREATE TABLE `log_erasures` (
	`request_id` text PRIMARY KEY NOT NULL,
	`queued_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`done_at` integer,
	FOREIGN KEY (`request_id`) REFERENCES `privacy_requests`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `log_ledger` (
	`key` integer PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`decisions` integer DEFAULT 0 NOT NULL,
	`conversions` integer DEFAULT 0 NOT NULL,
	`value` real DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `log_sweeps` (
	`id` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`cursor` text DEFAULT '' NOT NULL
);
