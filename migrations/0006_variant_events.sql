ALTER TABLE `events` ADD `variant_id` text;--> statement-breakpoint
ALTER TABLE `events` ADD `variant_reason` text;--> statement-breakpoint
CREATE INDEX `events_site_variant` ON `events` (`site_id`,`content_id`,`variant_id`);