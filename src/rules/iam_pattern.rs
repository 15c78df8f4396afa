//! What an IAM action or resource pattern can match, judged by matching
//! rather than by spelling: `arn:*`, `**`, `*:*` and `arn:aws:s3:::*` are
//! all "every resource", however they are written.

/// IAM wildcard matching: `*` any run (separators included), `?` one
/// character, everything else itself
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards).
pub fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Whether `action` (possibly with IAM wildcards) covers `known`, a
/// lower-case action name. Actions compare case-insensitively, as IAM does.
pub fn action_matches(action: &str, known: &str) -> bool {
    wildcard_match(
        action.trim().to_ascii_lowercase().as_bytes(),
        known.as_bytes(),
    )
}

/// A resource name that no pattern naming resources can match: control
/// characters, which no ARN contains, around both separators. Only a
/// pattern whose resource part is wildcards alone matches it.
const ANY_NAME: &str = "\u{1}\u{2}/\u{3}:\u{4}";

/// What an ARN field is in a probe when the pattern leaves it open.
const ANY_FIELD: &str = "\u{1}";

/// Whether the resource pattern matches every resource of the service it
/// names, in the partition, region and account it names (every resource of
/// every service when it names no service): it matches an ARN made of its
/// own literal fields around a resource name nobody would write.
pub fn matches_every_resource(pattern: &str) -> bool {
    let fields = ArnFields::of(pattern);
    let probe = format!(
        "arn:{}:{}:{}:{}:{ANY_NAME}",
        fields.literal(1).unwrap_or("aws"),
        fields.literal(2).unwrap_or(ANY_FIELD),
        fields.literal(3).unwrap_or(ANY_FIELD),
        fields.literal(4).unwrap_or(ANY_FIELD),
    );
    wildcard_match(pattern.trim().as_bytes(), probe.as_bytes())
}

/// Whether the resource pattern matches every IAM role of the account it
/// names (of every account when it names none): `*`,
/// `arn:aws:iam::*:role/*`, `arn:aws:iam::123456789012:role/*` do, and
/// `arn:aws:iam::123456789012:role/deploy-*` does not.
pub fn matches_every_role(pattern: &str) -> bool {
    let fields = ArnFields::of(pattern);
    let probe = format!(
        "arn:{}:iam::{}:role/{ANY_NAME}",
        fields.literal(1).unwrap_or("aws"),
        fields.literal(4).unwrap_or(ANY_FIELD),
    );
    wildcard_match(pattern.trim().as_bytes(), probe.as_bytes())
}

/// The `:`-separated fields of an ARN pattern: `arn`, partition, service,
/// region, account, resource.
struct ArnFields<'a>(Vec<&'a str>);

impl<'a> ArnFields<'a> {
    fn of(pattern: &'a str) -> Self {
        Self(pattern.trim().splitn(6, ':').collect())
    }

    /// Field `index` when the pattern writes it without wildcards.
    fn literal(&self, index: usize) -> Option<&'a str> {
        self.0
            .get(index)
            .copied()
            .filter(|field| !field.contains(['*', '?']))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_iam() {
        assert!(action_matches("iam:*", "iam:passrole"));
        assert!(action_matches("IAM:Pass*", "iam:passrole"));
        assert!(action_matches("*", "sts:assumerole"));
        assert!(!action_matches("s3:Get*", "iam:passrole"));
        assert!(action_matches("iam:Put?serPolicy", "iam:putuserpolicy"));
    }

    #[test]
    fn every_resource_is_judged_by_what_a_pattern_matches() {
        for every in [
            "*",
            "**",
            "*:*",
            "arn:*",
            "arn:aws:*",
            "arn:*:*:*:*:*",
            "arn:aws:s3:::*",
            "arn:aws:s3:::*/*",
            "arn:aws:dynamodb:*:*:*",
            "arn:aws:ecs:eu-west-1:123456789012:*",
            "?*",
        ] {
            assert!(matches_every_resource(every), "{every}");
        }
        for named in [
            "arn:aws:s3:::payments-exports/*",
            "arn:aws:s3:::*payments*",
            "arn:aws:ecs:eu-west-1:123456789012:service/payments/*",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/*",
            "arn:aws:iam::123456789012:role/*",
        ] {
            assert!(!matches_every_resource(named), "{named}");
        }
    }

    #[test]
    fn every_role_is_judged_by_what_a_pattern_matches() {
        for every in [
            "*",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::123456789012:role/*",
            "arn:aws:iam::123456789012:*",
            "arn:aws:iam::123456789012:role*",
            "arn:*:iam::*:*",
        ] {
            assert!(matches_every_role(every), "{every}");
        }
        for named in [
            "arn:aws:iam::123456789012:role/payments-task",
            "arn:aws:iam::123456789012:role/deploy-*",
            "arn:aws:iam::123456789012:role/lapse/*",
            "arn:aws:iam::123456789012:user/*",
            "arn:aws:s3:::*",
        ] {
            assert!(!matches_every_role(named), "{named}");
        }
    }
}
