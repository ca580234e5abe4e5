//! Which kind of Convex function a stub, call or spec entry is.

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Query,
    Mutation,
    Action,
}

impl Kind {
    /// What the args struct's name ends with: `list_posts` → `ListPostsQuery`.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Kind::Query => "Query",
            Kind::Mutation => "Mutation",
            Kind::Action => "Action",
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Mutation => "mutation",
            Kind::Action => "action",
        }
    }
}
