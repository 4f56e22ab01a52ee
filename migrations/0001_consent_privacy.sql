CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`role` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `consent_ledger` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`site_id` text,
	`subject_id` text,
	`subject_hash` text NOT NULL,
	`personalization` integer NOT NULL,
	`measurement` integer NOT NULL,
	`source` text NOT NULL,
	`policy_version` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `consent_ledger_subject` ON `consent_ledger` (`subject_id`);--> statement-breakpoint
CREATE INDEX `consent_ledger_hash` ON `consent_ledger` (`subject_hash`);--> statement-breakpoint
CREATE TABLE `privacy_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`subject_id` text,
	`subject_hash` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`completed_at` integer
);
--> statement-breakpoint
CREATE INDEX `privacy_requests_status` ON `privacy_requests` (`status`);--> statement-breakpoint
CREATE TABLE `revocations` (
	`subject_hash` text PRIMARY KEY NOT NULL,
	`request_id` text NOT NULL,
	`reason` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
