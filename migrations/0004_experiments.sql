ALTER TABLE `decisions` ADD `holdout` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `decisions` ADD `assignments` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `segments` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `mode_reason` text;--> statement-breakpoint
ALTER TABLE `sites` ADD `policy` text DEFAULT '{}' NOT NULL;