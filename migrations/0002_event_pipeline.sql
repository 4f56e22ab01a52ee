CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`visitor_id` text,
	`ts` integer NOT NULL,
	`mode` text NOT NULL,
	`model_version` text,
	`context` text NOT NULL,
	`slots` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `decisions_visitor` ON `decisions` (`visitor_id`);--> statement-breakpoint
CREATE INDEX `decisions_site_ts` ON `decisions` (`site_id`,`ts`);--> statement-breakpoint
CREATE TABLE `events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`site_id` text NOT NULL,
	`decision_id` text NOT NULL,
	`visitor_id` text,
	`type` text NOT NULL,
	`slot` text NOT NULL,
	`content_id` text NOT NULL,
	`policy` text NOT NULL,
	`model_version` text NOT NULL,
	`ts` integer NOT NULL,
	`day` text NOT NULL,
	`value` real,
	`currency` text
);
--> statement-breakpoint
CREATE INDEX `events_visitor` ON `events` (`visitor_id`);--> statement-breakpoint
CREATE INDEX `events_decision` ON `events` (`decision_id`);--> statement-breakpoint
CREATE TABLE `rollups` (
	`site_id` text NOT NULL,
	`day` text NOT NULL,
	`slot` text NOT NULL,
	`content_id` text NOT NULL,
	`policy` text NOT NULL,
	`model_version` text NOT NULL,
	`impressions` integer DEFAULT 0 NOT NULL,
	`clicks` integer DEFAULT 0 NOT NULL,
	`conversions` integer DEFAULT 0 NOT NULL,
	`dismissals` integer DEFAULT 0 NOT NULL,
	`value` real DEFAULT 0 NOT NULL,
	PRIMARY KEY(`site_id`, `day`, `slot`, `content_id`, `policy`, `model_version`)
);
