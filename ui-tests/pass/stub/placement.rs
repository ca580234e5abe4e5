//! Stubs stand at module level or in a function's body, also right after an `impl` or a `trait` block whose
//! braces, strings and comments could mislead a reading of the file.

pub struct Posts;

impl Posts {
    /// `{` in a doc, `"}"` in a string, `'{'` in a char: none of them closes or opens the block.
    pub fn label(&self) -> (&'static str, char, &'static str) {
        ("}", '{', r#"impl X { "#)
    }
}

pub trait Named {
    fn name(&self) -> String {
        /* } */
        String::from("{")
    }
}

#[convex::query("posts:list")]
pub async fn list_posts() -> Vec<String>;

pub mod api {
    #[convex::mutation("posts:create")]
    pub async fn create_post(title: String) -> String;
}

impl Named for Posts {}

fn main() {
    #[convex::query("posts:count")]
    async fn count_posts() -> u64;

    let _ = (list_posts(), api::create_post("t".into()), count_posts(), Posts.label(), Posts.name());
}
