DROP TABLE `decisions`;--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
DROP TABLE `feature_drift`;--> statement-breakpoint
DROP TABLE `rollups`;--> statement-breakpoint
DROP TABLE `variant_rollups`;